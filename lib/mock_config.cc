// TODO: mock_config
