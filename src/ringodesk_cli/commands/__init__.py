"""Command groups: parse options, call the library, render. Nothing below imports this."""
