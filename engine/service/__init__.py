"""The engine service: the ZeroMQ server, one worker per device, the job store on disk, the intake
of submitted shots, CurveZMQ keys and the allowed roots of paths sent by reference."""
