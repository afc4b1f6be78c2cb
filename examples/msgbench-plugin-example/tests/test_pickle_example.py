"""The plugin's own tests: the msgbench conformance kit, one pytest test per rule."""

from msgbench_plugin_example import PickleCodec

from formats.conformance import conformance_tests

# By class: works before the package is installed (e.g. in this repository's checkout)...
test_pickle_codec = conformance_tests(PickleCodec)

# ...and, once installed, by its registered name, which also checks the entry point:
# test_pickle_registered = conformance_tests("pickle/example")
