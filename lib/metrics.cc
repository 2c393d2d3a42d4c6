// TODO: metrics
