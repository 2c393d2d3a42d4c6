// TODO: notification_parser
