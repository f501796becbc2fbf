import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { applyEzidOpenApi } from 'nestjs-ezid';

/**
 * Swagger UI at `/docs` (the document at `/docs-json`): @nestjs/swagger's document, completed by
 * `applyEzidOpenApi()` with what the module's guards ask of each route (public, cookie or bearer,
 * tenant, roles and permissions, error responses).
 */
export function setupSwagger(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('nestjs-ezid sample app')
    .setDescription(
      'Sign in on the page (/), then try the tenant routes here: the session cookie is sent along.',
    )
    .setVersion('1.0')
    .build();
  SwaggerModule.setup('docs', app, applyEzidOpenApi(app, SwaggerModule.createDocument(app, config)));
}
