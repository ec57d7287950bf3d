/** The Sparkplug B 3.0 topic namespace. */
export const NAMESPACE = "spBv1.0";

export type NodeVerb = "NBIRTH" | "NDEATH" | "NDATA" | "NCMD";
export type DeviceVerb = "DBIRTH" | "DDEATH" | "DDATA" | "DCMD";

export interface EdgeNodeId {
  groupId: string;
  edgeNodeId: string;
}

/** spBv1.0/<group>/<verb>/<node> */
export function nodeTopic(n: EdgeNodeId, verb: NodeVerb): string {
  return `${NAMESPACE}/${n.groupId}/${verb}/${n.edgeNodeId}`;
}

/** spBv1.0/<group>/<verb>/<node>/<device> */
export function deviceTopic(n: EdgeNodeId, verb: DeviceVerb, device: string): string {
  return `${NAMESPACE}/${n.groupId}/${verb}/${n.edgeNodeId}/${device}`;
}

/** spBv1.0/STATE/<host>: the primary host application's JSON birth and death (3.0). */
export function stateTopic(hostId: string): string {
  return `${NAMESPACE}/STATE/${hostId}`;
}

/** Outbox entries for the Sparkplug node (its defect events) are told apart from the JSON topics by their topic. */
export function isSparkplugTopic(topic: string): boolean {
  return topic.startsWith(`${NAMESPACE}/`);
}
