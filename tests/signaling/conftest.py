from tests.signaling.fanout_nodes import nodes, redis, start_node

__all__ = ["nodes", "redis", "start_node"]
