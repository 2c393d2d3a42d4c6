// TODO: event_hub
