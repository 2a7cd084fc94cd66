"""Statistics over case metadata, with pictures: counts, medians and shares for a period, small
counts suppressed; server-drawn SVG charts, a CSV, and the figures plugins' exports draw on."""
