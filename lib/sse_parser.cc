// TODO: sse_parser
