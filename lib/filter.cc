// TODO: filter
