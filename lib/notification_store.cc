// TODO: notification_store
