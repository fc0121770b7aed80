"""The data plane. It never imports the store: it serves from an immutable, versioned RoutingTable
that the control plane replaces atomically, and keeps serving the last one if the control plane stops."""
