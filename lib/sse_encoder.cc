// TODO: sse_encoder
