// TODO: curl_http_client
