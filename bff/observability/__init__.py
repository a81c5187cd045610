"""Telemetry: the ONE tracing API (:mod:`.tracing`, OpenTelemetry) and the ONE metrics API
(:mod:`.metrics`, Prometheus text or CloudWatch embedded metric format) the rest of the BFF
calls, both off by default and near-free when off (one attribute test per call site).

::

    tracing      span(), the traceparent to upstreams, the ids for log lines; SDK set up lazily
    attributes   what may go into a span attribute or a label (the scrubber of last resort)
    propagation  the incoming traceparent, honoured from trusted peers only
    metrics      counters, histograms, gauges (the series are declared in .series)
    series       every series the BFF exports, in one list (docs/operations.md mirrors it)
    exposition   the Prometheus listener (BFF_METRICS_ADDR) and the EMF flush (Lambda)
    component    start-up and shut-down from Settings.telemetry
"""
