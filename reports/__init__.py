"""Pure rendering of results.json into HTML and a markdown summary."""
