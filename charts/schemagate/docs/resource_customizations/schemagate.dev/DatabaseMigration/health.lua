-- Argo CD health of schemagate.dev/DatabaseMigration.
-- Healthy when the operator has observed the current generation and Ready is True: the database
-- is at a state the release's app runs on, so the app's later sync wave is applied. That holds
-- while the contract part of a release waits for the rollout, even when the rollout is stuck
-- (Stalled True, reason RolloutStuck, in the message): the commit that fixes the app must reach
-- its wave.
-- Degraded when Stalled is True (a failure that needs a person), while a plan awaits approval
-- (Ready False with reason ApprovalPending) and while a run waits for a drifted schema to be
-- acknowledged (reason DriftBlocked): in a sync wave, Argo CD waits on Progressing and Suspended
-- for as long as they last and starts no automated sync meanwhile, so the commit that approves or
-- acknowledges would wait for someone to terminate the sync; Degraded ends the sync (the app's
-- later wave is not applied) and lets that commit sync (docs/gitops.md cites the lines).
-- Suspended with spec.suspend. A drift that only reports (Drifted True, Ready True) stays Healthy,
-- with the drift in the message;
-- Progressing otherwise (a run under way, or a generation not observed yet). What is held back
-- (paused Deployments, pods at the scheduling gate) and why is added to the message.
local hs = {}
local generation = obj.metadata and obj.metadata.generation or 0
local status = obj.status
if status == nil or status.observedGeneration == nil or status.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end
local function condition(type)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end
local held = condition("RolloutHeld")
local function withHeld(message)
  if held ~= nil and held.status == "True" and held.message ~= nil and held.message ~= "" then
    return message .. " (" .. held.message .. ")"
  end
  return message
end
local stalled = condition("Stalled")
local ready = condition("Ready")
local drifted = condition("Drifted")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = withHeld(ready.message or "Ready")
  if stalled ~= nil and stalled.status == "True" then
    hs.message = hs.message .. "; " .. (stalled.reason or "Stalled") .. ": " .. (stalled.message or "")
  end
  if drifted ~= nil and drifted.status == "True" then
    hs.message = hs.message .. "; " .. (drifted.reason or "Drifted") .. ": " .. (drifted.message or "")
  end
  return hs
end
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = withHeld((stalled.reason or "Stalled") .. ": " .. (stalled.message or ""))
  return hs
end
if ready ~= nil and (ready.reason == "ApprovalPending" or ready.reason == "DriftBlocked") then
  hs.status = "Degraded"
  hs.message = withHeld(ready.reason .. ": " .. (ready.message or ""))
  return hs
end
if status.phase == "Suspended" then
  hs.status = "Suspended"
  hs.message = ready ~= nil and ready.message or "spec.suspend is true"
  return hs
end
local reconciling = condition("Reconciling")
hs.status = "Progressing"
if reconciling ~= nil and reconciling.status == "True" then
  hs.message = withHeld(reconciling.message or "Migrating")
else
  hs.message = withHeld(ready ~= nil and ready.message or "Waiting for the migration")
end
return hs
