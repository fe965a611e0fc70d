/** The agent's version, as it gossips it and reports it in its hypervisor record. */
export const agentVersion = '0.1.0';
