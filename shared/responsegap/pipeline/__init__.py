"""The serverless pipeline: what the Lambda handlers in ``functions/`` call.

- ``dispatch.dispatch_due_profiles``: scheduler -> one poll message per due profile.
- ``poll.process_batch``: poll queue -> ``poll.poll_profile`` / ``recheck.recheck_profile`` per message.
- ``recheck.dispatch_rechecks``: scheduler -> one recheck message per enabled profile.
- ``weekly.dispatch_reports`` / ``weekly.process_report_batch`` -> ``send_weekly_report``: weekly
  report per brand (and the leaders' roll-up), once per week.

Handlers build their dependencies once per container from :class:`responsegap.config.Settings`;
tests hand in fakes or moto-backed clients instead.
"""
