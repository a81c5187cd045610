"""Local stand-ins for Lambda's SQS event source: poll the subscriber queues on moto and run the
functions of ``infra/functions`` in-process with real SQS event shapes."""
