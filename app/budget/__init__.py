"""The budget domain's operators (registered by name for BPMN service tasks) and its use cases."""
