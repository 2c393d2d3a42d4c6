// TODO: delivery_client
