"""Pure domain rules and value types: no I/O, no clock, no framework imports."""
