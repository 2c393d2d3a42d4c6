// TODO: http_server
