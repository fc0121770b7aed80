"""The control plane's reconcile loops: desired state (the store) → observed state (instances)."""
