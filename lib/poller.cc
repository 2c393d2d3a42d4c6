// TODO: poller
