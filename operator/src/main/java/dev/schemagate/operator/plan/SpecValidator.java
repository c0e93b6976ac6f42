package dev.schemagate.operator.plan;

import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.Tool;
import dev.schemagate.operator.base.Names;
import io.fabric8.kubernetes.api.model.EnvVar;
import java.util.ArrayList;
import java.util.List;

/**
 * The checks the CRD schema cannot express cheaply (or that an older CRD may not have), with a
 * message that names the field and the fix.
 */
public final class SpecValidator {
  private SpecValidator() {}

  public static List<String> problems(DatabaseMigrationSpec spec) {
    List<String> problems = new ArrayList<>();
    if (blank(spec.getImage())) {
      problems.add("spec.image is required: the migration image to run");
    }
    if (blank(spec.getTargetRevision())) {
      problems.add("spec.targetRevision is required: the revision to reach, or head");
    }
    Tool tool = spec.getTool();
    boolean hasCommand = spec.getCommand() != null && !spec.getCommand().isEmpty();
    if (tool == Tool.CUSTOM && !hasCommand) {
      problems.add("spec.tool: custom needs spec.command, the command that runs the migration");
    }
    if (tool != Tool.CUSTOM && spec.getCommand() != null) {
      problems.add(
          "spec.command is only used with spec.tool: custom; remove it or set spec.tool: custom");
    }
    if (spec.getGate() != null && spec.getGate().getDeployments() != null) {
      List<String> names = spec.getGate().getDeployments();
      for (int i = 0; i < names.size(); i++) {
        if (!Names.isValidObjectName(names.get(i))) {
          problems.add(
              "spec.gate.deployments["
                  + i
                  + "] \""
                  + names.get(i)
                  + "\" is not a valid Deployment name: use lower-case letters, digits, '-' and '.'");
        }
      }
    }
    if (spec.getEnv() != null) {
      for (EnvVar env : spec.getEnv()) {
        if (env.getName() != null && env.getName().startsWith("SCHEMAGATE_")) {
          problems.add(
              "spec.env "
                  + env.getName()
                  + ": names starting with SCHEMAGATE_ are set by the operator; rename it");
        }
      }
    }
    if (spec.getDatabase() != null
        && spec.getDatabase().getSecretRef() != null
        && !Names.isValidObjectName(spec.getDatabase().getSecretRef().getName())) {
      problems.add("spec.database.secretRef.name is not a valid Secret name");
    }
    return problems;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
