"""Media: aiortc peers and TURN credentials (issue 5). Nothing here yet."""
