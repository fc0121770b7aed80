"""Data capture: SageMaker's DataCaptureConfig, running. The router samples invocations and hands their raw
bytes to a bounded queue (``handoff.CaptureHandoff``), which a thread writes in batches through a pipe
(``frames``) to the server's capture-writer process (``writer_process``); there ``writer.CaptureWriter``
encodes SageMaker's JSON-lines records (``record``) and writes them under
``{destination}/{endpoint}/{variant}/yyyy/mm/dd/hh/`` to a local directory, ``file://`` or ``s3://``
(``destination``); ``reader`` reads them back for Model Monitor.

The package imports nothing itself: the data plane loads only ``config`` and ``record`` (no botocore)."""
