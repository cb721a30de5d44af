"""Socket.IO layer: connection auth, the bus between nodes, and (per area) event namespaces."""
