"""The model registry: SageMaker's model package groups and versioned packages with lineage that cannot
drift (kept artifacts and metrics reports under their digests), an audit trail of every decision, and
deployment bindings whose controller turns approvals into guarded endpoint updates.

    tables.py, repository.py   SQL (migration 0005)
    packages.py, documents.py  the SageMaker operations and their response shapes
    artifacts.py, evaluation.py  the kept artifact (sha256) and metrics reports
    audit.py                   history and "which version served endpoint E at time T"
    bindings.py                bindings (desired state) and the champion alias
    binding_machine.py         the binding controller, pure: step(state, observations, now)
    binding_driver.py          its I/O: load, observe, step, save, apply
    eventshapes.py             EventBridge's shapes of the events
    sources.py                 the CLI's sources: directories, archives, MLflow models and runs
    assembly.py                wiring inside a server
"""
