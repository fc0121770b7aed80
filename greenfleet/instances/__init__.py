"""Where instances run. One small interface (InstanceBackend); local OS processes today, a Ray
cluster or another machine tomorrow, as a new backend rather than a rewrite."""
