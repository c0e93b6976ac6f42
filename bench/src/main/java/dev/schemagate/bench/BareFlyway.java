package dev.schemagate.bench;

import org.flywaydb.core.Flyway;

/** Flyway with nothing around it: the peer of the runner. Args: url user password location. */
public final class BareFlyway {
  public static void main(String[] args) {
    var result =
        Flyway.configure()
            .dataSource(args[0], args[1], args[2])
            .locations(args[3])
            .load()
            .migrate();
    System.out.println("applied " + result.migrationsExecuted);
  }
}
