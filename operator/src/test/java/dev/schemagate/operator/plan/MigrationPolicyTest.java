package dev.schemagate.operator.plan;

import static dev.schemagate.operator.Fixtures.migration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.schemagate.api.DatabaseMigrationSpec;
import dev.schemagate.api.JobOptions;
import dev.schemagate.api.Tool;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cluster admin's policy, rule by rule: each refusal names the rule and the value. */
class MigrationPolicyTest {
  static final String DIGEST = "a".repeat(64);

  static DatabaseMigrationSpec spec(String image) {
    return migration("shop", "orders", image, "5").getSpec();
  }

  static MigrationPolicy images(String... patterns) {
    return new MigrationPolicy(List.of(patterns), false, List.of("default"), true);
  }

  @Test
  void imagesMustMatchAPatternOfTheirRepositoryOrTheWholeReference() {
    MigrationPolicy acme =
        images("images.example.org/acme/*", "registry.example.com/shop/orders-migrations");
    assertThat(acme.violations(spec("images.example.org/acme/orders:1.4.2"), null)).isEmpty();
    assertThat(acme.violations(spec("images.example.org/acme/team/orders@sha256:" + DIGEST), null))
        .isEmpty();
    assertThat(acme.violations(spec("registry.example.com/shop/orders-migrations:2"), null))
        .isEmpty();
    assertThat(acme.violations(spec("registry.example.com/x:1"), null))
        .containsExactly(
            "spec.image registry.example.com/x:1 is not allowed: the policy allows images matching"
                + " images.example.org/acme/*, registry.example.com/shop/orders-migrations");
    assertThat(acme.violations(spec("images.example.org/acme-evil/orders:1"), null)).hasSize(1);
    assertThat(acme.violations(spec("images.example.org.evil.example/acme/orders:1"), null))
        .hasSize(1);
    assertThat(acme.violations(spec("registry.example.com/shop/orders-migrations-x:2"), null))
        .as("an exact repository is not a prefix")
        .hasSize(1);
    assertThat(images("*").violations(spec("anything/at:all"), null)).isEmpty();
    assertThat(images("images.example.org/library/*").violations(spec("postgres:16"), null))
        .as("no registry is implied")
        .hasSize(1);
    assertThat(
            images("images.example.org/acme/orders:1.*")
                .violations(spec("images.example.org/acme/orders:1.4"), null))
        .as("a pattern may name tags")
        .isEmpty();
    assertThat(
            images("images.example.org/acme/orders:1.*")
                .violations(spec("images.example.org/acme/orders:2.0"), null))
        .hasSize(1);
  }

  @Test
  void digestsMayBeRequired() {
    MigrationPolicy pinned = new MigrationPolicy(List.of("*"), true, List.of("default"), true);
    assertThat(pinned.violations(spec("images.example.org/acme/orders@sha256:" + DIGEST), null))
        .isEmpty();
    assertThat(pinned.violations(spec("images.example.org/acme/orders:1.4.2"), null))
        .containsExactly(
            "spec.image images.example.org/acme/orders:1.4.2 is not pinned by digest: the policy requires"
                + " images by digest (repository@sha256:...)");
    assertThat(pinned.violations(spec("images.example.org/acme/orders@sha256:abc"), null))
        .hasSize(1);
  }

  @Test
  void theImageADowngradeRunsIsCheckedToo() {
    MigrationPolicy acme = images("images.example.org/acme/*");
    assertThat(
            acme.violations(spec("images.example.org/acme/orders:1"), "old.example.org/orders:2"))
        .containsExactly(
            "status.currentImage (the image a downgrade runs) old.example.org/orders:2 is not"
                + " allowed: the policy allows images matching images.example.org/acme/*");
  }

  @Test
  void serviceAccountsDefaultToTheNamespacesDefaultOnly() {
    DatabaseMigrationSpec spec = spec("x/y:1");
    MigrationPolicy defaults = MigrationPolicy.DEFAULTS;
    assertThat(defaults.violations(spec, null)).as("none named: default").isEmpty();
    spec.setJob(new JobOptions());
    spec.getJob().setServiceAccountName("default");
    assertThat(defaults.violations(spec, null)).isEmpty();
    spec.getJob().setServiceAccountName("migrator");
    assertThat(defaults.violations(spec, null))
        .containsExactly(
            "spec.job.serviceAccountName migrator is not allowed: the policy allows the service"
                + " accounts default");
    assertThat(
            new MigrationPolicy(List.of("*"), false, List.of("default", "migrator"), true)
                .violations(spec, null))
        .isEmpty();
    assertThat(new MigrationPolicy(List.of("*"), false, List.of("*"), true).violations(spec, null))
        .isEmpty();
    assertThat(
            new MigrationPolicy(List.of("*"), false, List.of("migrator"), true)
                .violations(spec("x/y:1"), null))
        .as("the default service account can be disallowed too")
        .hasSize(1);
  }

  @Test
  void customCommandsCanBeDisallowed() {
    DatabaseMigrationSpec spec = spec("x/y:1");
    spec.setTool(Tool.CUSTOM);
    spec.setCommand(List.of("liquibase", "update"));
    assertThat(MigrationPolicy.DEFAULTS.violations(spec, null)).isEmpty();
    MigrationPolicy strict = new MigrationPolicy(List.of("*"), false, List.of("default"), false);
    assertThat(strict.violations(spec, null))
        .containsExactly(
            "spec.tool custom is not allowed: the policy allows no custom commands; use tool flyway"
                + " or alembic");
    spec.setTool(Tool.ALEMBIC);
    spec.setCommand(null);
    assertThat(strict.violations(spec, null)).isEmpty();
  }

  @Test
  void everyViolationIsListed() {
    DatabaseMigrationSpec spec = spec("elsewhere/x:1");
    spec.setTool(Tool.CUSTOM);
    spec.setCommand(List.of("sh"));
    spec.setJob(new JobOptions());
    spec.getJob().setServiceAccountName("admin");
    assertThat(
            new MigrationPolicy(
                    List.of("images.example.org/acme/*"), false, List.of("default"), false)
                .violations(spec, null))
        .hasSize(3);
  }
}
