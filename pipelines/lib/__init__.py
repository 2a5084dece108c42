"""Small shared helpers: settings, partitions, progress lines, tool paths, secret files."""
