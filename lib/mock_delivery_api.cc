// TODO: mock_delivery_api
