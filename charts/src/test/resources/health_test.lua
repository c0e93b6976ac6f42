-- Runs the Argo CD health check (arg[1]) against sample DatabaseMigrations, as Argo CD runs it:
-- the script's body with the resource as the global obj. Debian's lua5.4, not Argo CD's own runtime
-- (gopher-lua, Lua 5.1, in util/lua of the argo-cd module): no argo-cd release the module proxy
-- serves builds util/lua (3.4 and later need a gitops-engine version it refuses; 3.3 needs the
-- gitops-engine folder of its own repository, newer than any published version).
local script = assert(io.open(arg[1])):read("a")

local function health(obj)
  local env = setmetatable({ obj = obj }, { __index = _G })
  return assert(load(script, "argocd-health.lua", "t", env))()
end

local function c(type, status, reason, message)
  return { type = type, status = status, reason = reason, message = message }
end

local cases = {
  { name = "ready at the observed generation", want = "Healthy", obj = {
      metadata = { generation = 3 },
      status = { observedGeneration = 3, phase = "Ready", conditions = {
        c("Ready", "True", "UpToDate", "database at revision 5"), c("Reconciling", "False", "UpToDate", ""),
        c("Stalled", "False", "NotStalled", ""), c("RolloutHeld", "False", "DatabaseAtTarget", "") } } } },
  { name = "a run under way", want = "Progressing", obj = {
      metadata = { generation = 4 },
      status = { observedGeneration = 4, phase = "Migrating", conditions = {
        c("Ready", "False", "MigrationRunning", "running"), c("Reconciling", "True", "MigrationRunning", "running upgrade to 6"),
        c("Stalled", "False", "NotStalled", "") } } } },
  { name = "a failed migration", want = "Degraded", message = "MigrationFailed: revision 6 failed", obj = {
      metadata = { generation = 4 },
      status = { observedGeneration = 4, phase = "Failed", conditions = {
        c("Ready", "False", "MigrationFailed", "x"), c("Stalled", "True", "MigrationFailed", "revision 6 failed") } } } },
  { name = "ready, but for an older generation", want = "Progressing", obj = {
      metadata = { generation = 5 },
      status = { observedGeneration = 4, phase = "Ready", conditions = { c("Ready", "True", "UpToDate", "at 5") } } } },
  { name = "no status yet", want = "Progressing", obj = { metadata = { generation = 1 } } },
  { name = "pods held at admission while a run is under way", want = "Progressing",
    message = "running upgrade to 6 (2 pods wait at the scheduling gate (a, b): revision 6 is not in place yet)", obj = {
      metadata = { generation = 4 },
      status = { observedGeneration = 4, phase = "Migrating", conditions = {
        c("Ready", "False", "MigrationRunning", "running"), c("Reconciling", "True", "MigrationRunning", "running upgrade to 6"),
        c("Stalled", "False", "NotStalled", ""),
        c("RolloutHeld", "True", "DatabaseNotAtTarget", "2 pods wait at the scheduling gate (a, b): revision 6 is not in place yet") } } } },
  { name = "a Deployment held after a failure", want = "Degraded",
    message = "MigrationFailed: revision 6 failed (holding orders-api until the database reaches the target)", obj = {
      metadata = { generation = 4 },
      status = { observedGeneration = 4, phase = "Failed", conditions = {
        c("Ready", "False", "MigrationFailed", "x"), c("Stalled", "True", "MigrationFailed", "revision 6 failed"),
        c("RolloutHeld", "True", "DatabaseNotAtTarget", "holding orders-api until the database reaches the target") } } } },
  { name = "a plan awaiting approval", want = "Degraded",
    message = "ApprovalPending: plan 0123456789abcdef awaits approval (holding orders-api until the database reaches the target)", obj = {
      metadata = { generation = 2 },
      status = { observedGeneration = 2, phase = "AwaitingApproval", conditions = {
        c("Ready", "False", "ApprovalPending", "plan 0123456789abcdef awaits approval"),
        c("Reconciling", "False", "ApprovalPending", "plan 0123456789abcdef awaits approval"),
        c("Stalled", "False", "NotStalled", ""),
        c("RolloutHeld", "True", "DatabaseNotAtTarget", "holding orders-api until the database reaches the target") } } } },
  { name = "a run held back by a drift nobody acknowledged", want = "Degraded",
    message = "DriftBlocked: the live schema drifted: set spec.drift.acknowledged: 2222222222222222 (holding orders-api until the database reaches the target)", obj = {
      metadata = { generation = 3 },
      status = { observedGeneration = 3, phase = "DriftBlocked", conditions = {
        c("Ready", "False", "DriftBlocked", "the live schema drifted: set spec.drift.acknowledged: 2222222222222222"),
        c("Reconciling", "False", "DriftBlocked", ""), c("Stalled", "False", "NotStalled", ""),
        c("RolloutHeld", "True", "DatabaseNotAtTarget", "holding orders-api until the database reaches the target"),
        c("Drifted", "True", "DriftDetected", "changed public.orders") } } } },
  { name = "a drift reported", want = "Healthy",
    message = "database at revision 5; DriftDetected: the live schema differs: changed public.orders", obj = {
      metadata = { generation = 3 },
      status = { observedGeneration = 3, phase = "Ready", conditions = {
        c("Ready", "True", "UpToDate", "database at revision 5"), c("Stalled", "False", "NotStalled", ""),
        c("Drifted", "True", "DriftDetected", "the live schema differs: changed public.orders") } } } },
  { name = "suspended", want = "Suspended", obj = {
      metadata = { generation = 2 },
      status = { observedGeneration = 2, phase = "Suspended", conditions = {
        c("Ready", "False", "Suspended", "spec.suspend is true"), c("Stalled", "False", "NotStalled", "") } } } },
}

local passed, failed = 0, 0
for _, case in ipairs(cases) do
  local hs = health(case.obj)
  local ok = hs.status == case.want and (case.message == nil or hs.message == case.message)
  if ok then
    passed = passed + 1
    print("ok   " .. case.name .. ": " .. hs.status)
  else
    failed = failed + 1
    print("FAIL " .. case.name .. ": want " .. case.want .. ", got " .. tostring(hs.status) .. " (" .. tostring(hs.message) .. ")")
  end
end
print(passed .. " passed, " .. failed .. " failed")
os.exit(failed == 0)
