"""Deliberately broken msgbench plugins (see README.md): each breaks one conformance rule."""
