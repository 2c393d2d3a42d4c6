// TODO: service
