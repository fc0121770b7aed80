"""Elastic capacity: Application Auto Scaling's API for SageMaker variants and the controller that acts
on it.

    names.py        resource ids, dimensions, ARNs, the wire's errors
    tables.py, repository.py   SQL (migration 0008): targets (with the controller's state), policies,
                    activities
    config.py       policy configurations, validated (TargetTracking, StepScaling)
    service.py      the API: Register/Describe/DeregisterScalableTarget, Put/Describe/DeleteScalingPolicy,
                    DescribeScalingActivities
    alarms.py       the CloudWatch alarms a target-tracking policy creates and owns
    policy.py       pure sizing: what each policy asks for, cooldowns, min/max, why not scaled
    machine.py      the controller, pure: step(state, observations, now) -> (state, actions)
    driver.py       its I/O, a named step of the control pass: load, observe, step, save, apply
    serverless.py   serverless variants, pure: how many instances stay warm (scale to zero when idle)
    serverless_driver.py  its I/O, a step of every pass (the router holds a cold start's first request)
    assembly.py     wiring inside a server
"""
