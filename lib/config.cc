// TODO: config
