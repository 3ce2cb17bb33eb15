"""`scalelab report`: sections (data), rendered to the terminal with rich and to one HTML file."""
