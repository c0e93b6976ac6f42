package dev.schemagate.operator.base;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Redaction of what looks like a credential. */
class RedactorTest {

  @Test
  void redactionRemovesUrlPasswordsAndKeyValuePasswords() {
    assertThat(Redactor.redact("postgresql+asyncpg://app:hunter2@db:5432/orders"))
        .isEqualTo("postgresql+asyncpg://app:*****@db:5432/orders");
    assertThat(Redactor.redact("jdbc:postgresql://db/orders?user=app&password=hunter2&ssl=true"))
        .doesNotContain("hunter2")
        .contains("ssl=true");
    assertThat(Redactor.redact("PGPASSWORD=hunter2 psql")).doesNotContain("hunter2");
    assertThat(Redactor.redact("{\"password\": \"hunter2\"}")).doesNotContain("hunter2");
    assertThat(Redactor.redact("host=db user=app password=hunter2 dbname=x"))
        .doesNotContain("hunter2")
        .contains("dbname=x");
    assertThat(Redactor.redact("relation app_user does not exist"))
        .isEqualTo("relation app_user does not exist");
  }
}
