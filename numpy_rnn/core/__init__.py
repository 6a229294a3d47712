"""The pure numerical core: functions of arrays, input validation, gradient checks."""
