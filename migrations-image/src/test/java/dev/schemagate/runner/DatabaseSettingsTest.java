package dev.schemagate.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DatabaseSettingsTest {
  @Test
  void sqlalchemyUrlsBecomeJdbcWithoutCredentials() {
    var s =
        DatabaseSettings.fromEnvironment(
            Map.of(
                "DATABASE_URL",
                "postgresql+asyncpg://app:p%40ss@db.internal:5433/orders?ssl=require"));
    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:5433/orders?sslmode=require");
    assertThat(s.user()).isEqualTo("app");
    assertThat(s.password()).isEqualTo("p@ss");
    assertThat(s.describe()).doesNotContain("p@ss");
    assertThat(s.toString()).doesNotContain("p@ss");
  }

  @Test
  void jdbcUrlCredentialsMoveOutOfTheUrl() {
    var s =
        DatabaseSettings.fromEnvironment(
            Map.of(
                "DATABASE_URL",
                "jdbc:postgresql://db/orders?user=app&password=secret&connectTimeout=3"));
    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db/orders?connectTimeout=3");
    assertThat(s.user()).isEqualTo("app");
    assertThat(s.password()).isEqualTo("secret");
  }

  @Test
  void separateVariablesWinOverOrFillTheUrl() {
    var s =
        DatabaseSettings.fromEnvironment(
            Map.of("DATABASE_URL", "postgres://db/orders", "DB_USER", "u", "DB_PASSWORD", "p"));
    assertThat(s.user()).isEqualTo("u");
    assertThat(s.password()).isEqualTo("p");
    var pg = DatabaseSettings.fromEnvironment(Map.of("PGHOST", "db", "PGUSER", "app"));
    assertThat(pg.jdbcUrl()).isEqualTo("jdbc:postgresql://db:5432/app");
  }

  @Test
  void badInputNamesTheVariableAndTheFix() {
    assertThatThrownBy(
            () -> DatabaseSettings.fromEnvironment(Map.of("DATABASE_URL", "mysql://db/x")))
        .hasMessageContaining("DATABASE_URL")
        .hasMessageContaining("postgresql://");
    assertThatThrownBy(() -> DatabaseSettings.fromEnvironment(Map.of()))
        .hasMessageContaining("set DATABASE_URL");
    assertThatThrownBy(
            () -> DatabaseSettings.fromEnvironment(Map.of("PGHOST", "db", "PGPORT", "x")))
        .hasMessageContaining("PGPORT");
  }

  @Test
  void secretsAreMaskedEverywhereTheyAreKnownOrShapedLikeOne() {
    Secrets.register("hunter2-value");
    assertThat(Secrets.mask("connecting with hunter2-value"))
        .isEqualTo("connecting with " + Secrets.MASK);
    assertThat(Secrets.mask("postgresql://u:other@h/db")).doesNotContain("other");
    assertThat(Secrets.mask("password=abc")).doesNotContain("abc");
  }

  @Test
  void thePasswordIsMaskedInEveryEncodingAndEverySecretOfTheEnvironmentToo() {
    DatabaseSettings.fromEnvironment(
        Map.of(
            "DATABASE_URL",
            "postgresql+asyncpg://app:p%40ss%2Fw%20rd@db:5432/orders",
            "API_TOKEN",
            "tok-unused-by-the-runner"));
    assertThat(Secrets.mask("login p@ss/w rd, p%40ss%2Fw%20rd, p%40ss/w+rd, p%40ss%2fw%20rd"))
        .isEqualTo("login *****, *****, *****, *****");
    assertThat(Secrets.mask("{\"token\":\"x\", \"note\": \"tok-unused-by-the-runner\"}"))
        .doesNotContain("tok-unused-by-the-runner");
  }
}
