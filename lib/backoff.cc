// TODO: backoff
