"""The revisit dialer (回访外呼): automatic satisfaction-survey calls under the Art. 17 retry rule.

* :mod:`.intake` creates a revisit task for every replied order and for the IVR's call-back
  requests; :mod:`.store` keeps tasks and every attempt in the database (the record);
* :mod:`.schedule` is the Redis schedule: a sorted set by due time, a lease set, per-citizen locks;
* :mod:`.pacing` caps channels and calls per minute, obeys a supervisor's pause and backs off
  while citizens wait in the inbound queue;
* :mod:`.dialer` claims due tasks, places the calls over AMI and applies the outcomes through the
  work-order service; the Art. 16-17 timing comes from :mod:`workorders.revisit`;
* :mod:`.survey` is the FastAGI survey an answered call runs (mounted on the IVR's server by
  :mod:`ivr.survey`, script ``survey?revisit=<attempt id>``);
* :mod:`.process` is the process ``minhu dialer run`` starts: reconcile, the intake loop, the
  dialer, a clean stop on SIGTERM.
"""
