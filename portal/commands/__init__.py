"""The `portal` command's groups of commands, one module each; `portal.cli` gathers them."""
