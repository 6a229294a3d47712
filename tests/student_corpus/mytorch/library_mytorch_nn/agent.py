from langgraph.graph import StateGraph

GRAPH = StateGraph(dict)
