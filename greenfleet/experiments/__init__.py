"""Inference experiments (SageMaker's shadow tests): the API (service.py, spec.py), the pure controller
(machine.py) and its driver (driver.py), a step of the control pass."""
