"""What every component serves with: the gRPC server, the HTTP server with
its probes and metrics, and the run-until-signalled lifecycle."""
