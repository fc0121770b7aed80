"""The ``greenfleet`` command: one module per noun, each adding its commands to the group."""
