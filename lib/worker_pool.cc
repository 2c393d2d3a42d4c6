// TODO: worker_pool
